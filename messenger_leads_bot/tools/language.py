"""The languages a customer likely reads when their messenger does not say (WhatsApp)."""

from babel.languages import get_territory_language_info

from odoo.addons.phone_validation.tools.phone_validation import phone_get_region_data_for_number


def phone_languages(e164):
    """Language codes spoken in the country of a number, most spoken first.

    '+79161230000' -> ['ru', 'tt', ...]; empty when the number or its country is unknown.
    """
    region = phone_get_region_data_for_number(e164 or "")["code"]
    spoken = get_territory_language_info(region) if region else {}
    return sorted(spoken, key=lambda code: -spoken[code]["population_percent"])
