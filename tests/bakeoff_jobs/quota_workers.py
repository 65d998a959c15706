"""Entry points for the quota tests' spawned worker processes (importable without Django set up)."""
import os
import threading
import time


def open_store(spec):
    from bakeoff_jobs.quotas import FileQuotaStore, RedisQuotaStore

    kind, location, prefix, window = spec
    if kind == "redis":
        return RedisQuotaStore(location, window_seconds=window, prefix=prefix)
    return FileQuotaStore(location, window_seconds=window)


def contend(spec, key, limit, rounds, threads, current, peak, lock):
    """Every thread takes the slot `rounds` times, holding it briefly, and records how many
    holders there were at once in the shared counters."""
    from bakeoff_jobs.quotas import model_slot

    store = open_store(spec)

    def work():
        for _ in range(rounds):
            with model_slot(store, key, limit=limit, lease_seconds=10.0, timeout=20.0, poll=0.002):
                with lock:
                    current.value += 1
                    peak.value = max(peak.value, current.value)
                time.sleep(0.003)
                with lock:
                    current.value -= 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def hold_and_die(spec, key, lease_seconds, sender):
    """Takes a slot and dies without releasing it, as a SIGKILLed worker would."""
    store = open_store(spec)
    token = store.try_acquire(key, limit=1, lease_seconds=lease_seconds)
    sender.send(token is not None)
    os._exit(0)
