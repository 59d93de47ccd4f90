"""Every table, imported in one place so migrations and tests see the whole schema."""

from sqlmodel import SQLModel

from service.audit.models import AuditRecord
from service.catalog.models import Attribute, Item, ItemValue
from service.engagement.models import EngagementObservation, EngagementPreference
from service.experiments.models import Experiment, Exposure
from service.jobs.models import Run, Schedule
from service.profiles.models import Customer, CustomerChange, Event, Preference
from service.recommendations.models import ModelVersion
from service.relationships.models import RelationshipPreference, RelationshipSettings
from service.tailoring.models import AttributeResult, TailoringSettings
from service.tenancy.models import ApiKey, Tenant
from service.treatment.models import CustomerValue, Touchpoint, TreatmentSettings

metadata = SQLModel.metadata

__all__ = [
    "ApiKey",
    "Attribute",
    "AttributeResult",
    "AuditRecord",
    "Customer",
    "CustomerChange",
    "CustomerValue",
    "EngagementObservation",
    "EngagementPreference",
    "Event",
    "Experiment",
    "Exposure",
    "Item",
    "ItemValue",
    "ModelVersion",
    "Preference",
    "RelationshipPreference",
    "RelationshipSettings",
    "Run",
    "Schedule",
    "TailoringSettings",
    "Tenant",
    "Touchpoint",
    "TreatmentSettings",
    "metadata",
]
