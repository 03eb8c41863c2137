"""Choices of employers and payroll relationships (customers.employers): the
industry an employer is in and the audit actions their writes leave."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Industry(models.TextChoices):
    """The sections of the national industry classification (GB/T 4754-2017)."""

    AGRICULTURE = "A", _("Agriculture, forestry, animal husbandry and fishery")
    MINING = "B", _("Mining")
    MANUFACTURING = "C", _("Manufacturing")
    UTILITIES = "D", _("Electricity, heat, gas and water supply")
    CONSTRUCTION = "E", _("Construction")
    TRADE = "F", _("Wholesale and retail trade")
    TRANSPORT = "G", _("Transport, storage and postal services")
    HOSPITALITY = "H", _("Accommodation and catering")
    IT = "I", _("Information transmission, software and IT services")
    FINANCE = "J", _("Finance")
    REAL_ESTATE = "K", _("Real estate")
    BUSINESS_SERVICES = "L", _("Leasing and business services")
    RESEARCH = "M", _("Scientific research and technical services")
    ENVIRONMENT = "N", _("Water, environment and public facilities management")
    RESIDENT_SERVICES = "O", _("Resident services, repair and other services")
    EDUCATION = "P", pgettext_lazy("industry", "Education")
    HEALTH = "Q", _("Health and social work")
    CULTURE = "R", _("Culture, sports and entertainment")
    PUBLIC_ADMINISTRATION = "S", _("Public administration, social security and social organisations")
    INTERNATIONAL = "T", _("International organisations")


class EmployerAction(models.TextChoices):
    """What the audit trail records of employers and payroll relationships
    (registered for the audit pages in customers.audit_display)."""

    EMPLOYER_CREATED = "employer_created", _("Employer registered")
    EMPLOYER_UPDATED = "employer_updated", _("Employer updated")
    PAYROLL_LINKED = "payroll_linked", _("Payroll relationship recorded")
    PAYROLL_ENDED = "payroll_ended", _("Payroll relationship ended")
