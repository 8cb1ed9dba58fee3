"""The languages a customer likely reads when their messenger does not say (WhatsApp)."""

import phonenumbers
from babel.languages import get_territory_language_info


def phone_languages(e164):
    """Language codes spoken in the country of a number, most spoken first.

    '+79161230000' -> ['ru', 'tt', ...]; empty when the number or its country is unknown.
    """
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164 or ""))
    except phonenumbers.NumberParseException:
        return []
    spoken = get_territory_language_info(region) if region else {}
    return sorted(spoken, key=lambda code: -spoken[code]["population_percent"])
