"""Allowed values of Partner Central fields, copied from botocore"s service models (a test keeps them equal)."""
from django.db import models


class AceStage(models.TextChoices):
    """partnercentral-selling `Stage` (LifeCycle.Stage); values are sent as they are."""

    PROSPECT = "Prospect", "Prospect"
    QUALIFIED = "Qualified", "Qualified"
    TECHNICAL_VALIDATION = "Technical Validation", "Technical Validation"
    BUSINESS_VALIDATION = "Business Validation", "Business Validation"
    COMMITTED = "Committed", "Committed"
    LAUNCHED = "Launched", "Launched"
    CLOSED_LOST = "Closed Lost", "Closed Lost"


class AceReviewStatus(models.TextChoices):
    """partnercentral-selling `ReviewStatus` (LifeCycle.ReviewStatus); values are sent as they are."""

    PENDING_SUBMISSION = "Pending Submission", "Pending Submission"
    SUBMITTED = "Submitted", "Submitted"
    IN_REVIEW = "In review", "In review"
    APPROVED = "Approved", "Approved"
    REJECTED = "Rejected", "Rejected"
    ACTION_REQUIRED = "Action Required", "Action Required"


class ClosedLostReason(models.TextChoices):
    """partnercentral-selling `ClosedLostReason` (LifeCycle.ClosedLostReason); values are sent as they are."""

    CUSTOMER_DEFICIENCY = "Customer Deficiency", "Customer Deficiency"
    DELAY_CANCELLATION_OF_PROJECT = "Delay / Cancellation of Project", "Delay / Cancellation of Project"
    LEGAL_TAX_REGULATORY = "Legal / Tax / Regulatory", "Legal / Tax / Regulatory"
    LOST_TO_COMPETITOR_GOOGLE = "Lost to Competitor - Google", "Lost to Competitor - Google"
    LOST_TO_COMPETITOR_MICROSOFT = "Lost to Competitor - Microsoft", "Lost to Competitor - Microsoft"
    LOST_TO_COMPETITOR_SOFTLAYER = "Lost to Competitor - SoftLayer", "Lost to Competitor - SoftLayer"
    LOST_TO_COMPETITOR_VMWARE = "Lost to Competitor - VMWare", "Lost to Competitor - VMWare"
    LOST_TO_COMPETITOR_OTHER = "Lost to Competitor - Other", "Lost to Competitor - Other"
    NO_OPPORTUNITY = "No Opportunity", "No Opportunity"
    ON_PREMISES_DEPLOYMENT = "On Premises Deployment", "On Premises Deployment"
    PARTNER_GAP = "Partner Gap", "Partner Gap"
    PRICE = "Price", "Price"
    SECURITY_COMPLIANCE = "Security / Compliance", "Security / Compliance"
    TECHNICAL_LIMITATIONS = "Technical Limitations", "Technical Limitations"
    CUSTOMER_EXPERIENCE = "Customer Experience", "Customer Experience"
    OTHER = "Other", "Other"
    PEOPLE_RELATIONSHIP_GOVERNANCE = "People/Relationship/Governance", "People/Relationship/Governance"
    PRODUCT_TECHNOLOGY = "Product/Technology", "Product/Technology"
    FINANCIAL_COMMERCIAL = "Financial/Commercial", "Financial/Commercial"


class Industry(models.TextChoices):
    """partnercentral-selling `Industry` (Customer.Account.Industry); values are sent as they are."""

    AEROSPACE = "Aerospace", "Aerospace"
    AGRICULTURE = "Agriculture", "Agriculture"
    AUTOMOTIVE = "Automotive", "Automotive"
    COMPUTERS_AND_ELECTRONICS = "Computers and Electronics", "Computers and Electronics"
    CONSUMER_GOODS = "Consumer Goods", "Consumer Goods"
    EDUCATION = "Education", "Education"
    ENERGY_OIL_AND_GAS = "Energy - Oil and Gas", "Energy - Oil and Gas"
    ENERGY_POWER_AND_UTILITIES = "Energy - Power and Utilities", "Energy - Power and Utilities"
    FINANCIAL_SERVICES = "Financial Services", "Financial Services"
    GAMING = "Gaming", "Gaming"
    GOVERNMENT = "Government", "Government"
    HEALTHCARE = "Healthcare", "Healthcare"
    HOSPITALITY = "Hospitality", "Hospitality"
    LIFE_SCIENCES = "Life Sciences", "Life Sciences"
    MANUFACTURING = "Manufacturing", "Manufacturing"
    MARKETING_AND_ADVERTISING = "Marketing and Advertising", "Marketing and Advertising"
    MEDIA_AND_ENTERTAINMENT = "Media and Entertainment", "Media and Entertainment"
    MINING = "Mining", "Mining"
    NON_PROFIT_ORGANIZATION = "Non-Profit Organization", "Non-Profit Organization"
    PROFESSIONAL_SERVICES = "Professional Services", "Professional Services"
    REAL_ESTATE_AND_CONSTRUCTION = "Real Estate and Construction", "Real Estate and Construction"
    RETAIL = "Retail", "Retail"
    SOFTWARE_AND_INTERNET = "Software and Internet", "Software and Internet"
    TELECOMMUNICATIONS = "Telecommunications", "Telecommunications"
    TRANSPORTATION_AND_LOGISTICS = "Transportation and Logistics", "Transportation and Logistics"
    TRAVEL = "Travel", "Travel"
    WHOLESALE_AND_DISTRIBUTION = "Wholesale and Distribution", "Wholesale and Distribution"
    OTHER = "Other", "Other"


class DeliveryModel(models.TextChoices):
    """partnercentral-selling `DeliveryModel` (Project.DeliveryModels[]); values are sent as they are."""

    SAAS_OR_PAAS = "SaaS or PaaS", "SaaS or PaaS"
    BYOL_OR_AMI = "BYOL or AMI", "BYOL or AMI"
    MANAGED_SERVICES = "Managed Services", "Managed Services"
    PROFESSIONAL_SERVICES = "Professional Services", "Professional Services"
    RESELL = "Resell", "Resell"
    OTHER = "Other", "Other"


class PrimaryNeed(models.TextChoices):
    """partnercentral-selling `PrimaryNeedFromAws` (PrimaryNeedsFromAws[]); values are sent as they are."""

    CO_SELL_ARCHITECTURAL_VALIDATION = "Co-Sell - Architectural Validation", "Co-Sell - Architectural Validation"
    CO_SELL_BUSINESS_PRESENTATION = "Co-Sell - Business Presentation", "Co-Sell - Business Presentation"
    CO_SELL_COMPETITIVE_INFORMATION = "Co-Sell - Competitive Information", "Co-Sell - Competitive Information"
    CO_SELL_PRICING_ASSISTANCE = "Co-Sell - Pricing Assistance", "Co-Sell - Pricing Assistance"
    CO_SELL_TECHNICAL_CONSULTATION = "Co-Sell - Technical Consultation", "Co-Sell - Technical Consultation"
    CO_SELL_TOTAL_COST_OF_OWNERSHIP_EVALUATION = "Co-Sell - Total Cost of Ownership Evaluation", "Co-Sell - Total Cost of Ownership Evaluation"
    CO_SELL_DEAL_SUPPORT = "Co-Sell - Deal Support", "Co-Sell - Deal Support"
    CO_SELL_SUPPORT_FOR_PUBLIC_TENDER_RFX = "Co-Sell - Support for Public Tender / RFx", "Co-Sell - Support for Public Tender / RFx"


class CompetitorName(models.TextChoices):
    """partnercentral-selling `CompetitorName` (Project.CompetitorName); values are sent as they are."""

    ORACLE_CLOUD = "Oracle Cloud", "Oracle Cloud"
    ON_PREM = "On-Prem", "On-Prem"
    CO_LOCATION = "Co-location", "Co-location"
    AKAMAI = "Akamai", "Akamai"
    ALICLOUD = "AliCloud", "AliCloud"
    GOOGLE_CLOUD_PLATFORM = "Google Cloud Platform", "Google Cloud Platform"
    IBM_SOFTLAYER = "IBM Softlayer", "IBM Softlayer"
    MICROSOFT_AZURE = "Microsoft Azure", "Microsoft Azure"
    OTHER_COST_OPTIMIZATION = "Other- Cost Optimization", "Other- Cost Optimization"
    NO_COMPETITION = "No Competition", "No Competition"
    OTHER = "*Other", "*Other"


class OpportunityOrigin(models.TextChoices):
    """partnercentral-selling `OpportunityOrigin` (Origin); values are sent as they are."""

    AWS_REFERRAL = "AWS Referral", "AWS Referral"
    PARTNER_REFERRAL = "Partner Referral", "Partner Referral"


class OpportunityType(models.TextChoices):
    """partnercentral-selling `OpportunityType` (OpportunityType); values are sent as they are."""

    NET_NEW_BUSINESS = "Net New Business", "Net New Business"
    FLAT_RENEWAL = "Flat Renewal", "Flat Renewal"
    EXPANSION = "Expansion", "Expansion"


class InvolvementType(models.TextChoices):
    """partnercentral-selling `SalesInvolvementType` (SubmitOpportunity InvolvementType); values are sent as they are."""

    FOR_VISIBILITY_ONLY = "For Visibility Only", "For Visibility Only"
    CO_SELL = "Co-Sell", "Co-Sell"


class Visibility(models.TextChoices):
    """partnercentral-selling `Visibility` (SubmitOpportunity Visibility); values are sent as they are."""

    FULL = "Full", "Full"
    LIMITED = "Limited", "Limited"


class BenefitStatus(models.TextChoices):
    """partnercentral-benefits `BenefitApplicationStatus` (GetBenefitApplication Status); values are sent as they are."""

    PENDING_SUBMISSION = "PENDING_SUBMISSION", "Pending submission"
    IN_REVIEW = "IN_REVIEW", "In review"
    ACTION_REQUIRED = "ACTION_REQUIRED", "Action required"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"
    CANCELED = "CANCELED", "Canceled"


class SalesActivity(models.TextChoices):
    """partnercentral-selling `SalesActivity` (Project.SalesActivities[]); values are sent as they are."""

    INITIALIZED_DISCUSSIONS_WITH_CUSTOMER = "Initialized discussions with customer", "Initialized discussions with customer"
    CUSTOMER_HAS_SHOWN_INTEREST_IN_SOLUTION = "Customer has shown interest in solution", "Customer has shown interest in solution"
    CONDUCTED_POC_DEMO = "Conducted POC / Demo", "Conducted POC / Demo"
    IN_EVALUATION_PLANNING_STAGE = "In evaluation / planning stage", "In evaluation / planning stage"
    AGREED_ON_SOLUTION_TO_BUSINESS_PROBLEM = "Agreed on solution to Business Problem", "Agreed on solution to Business Problem"
    COMPLETED_ACTION_PLAN = "Completed Action Plan", "Completed Action Plan"
    FINALIZED_DEPLOYMENT_NEED = "Finalized Deployment Need", "Finalized Deployment Need"
    SOW_SIGNED = "SOW Signed", "SOW Signed"
