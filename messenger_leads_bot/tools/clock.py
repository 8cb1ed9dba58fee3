"""When a customer's message was sent, as far as we can tell (naive UTC datetimes)."""


def message_time(sent, opened, received):
    """The messenger's date of a message, unless it is before the bot account existed
    (`opened`) or after we received it (a wrong clock, a 1970 date): then the receipt time."""
    if not sent or sent < opened or sent > received:
        return received
    return sent
