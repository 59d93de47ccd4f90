"""Every table, imported in one place so migrations and tests see the whole schema."""

from sqlmodel import SQLModel

from service.audit.models import AuditRecord
from service.catalog.models import Attribute, Item, ItemValue
from service.profiles.models import Customer, CustomerChange, Event, Preference
from service.tenancy.models import ApiKey, Tenant

metadata = SQLModel.metadata

__all__ = [
    "ApiKey",
    "Attribute",
    "AuditRecord",
    "Customer",
    "CustomerChange",
    "Event",
    "Item",
    "ItemValue",
    "Preference",
    "Tenant",
    "metadata",
]
