from . import test_messenger_conversation
from . import test_telegram_parsing
from . import test_telegram_bridge
from . import test_messenger_outbox
from . import test_webhook
from . import test_discuss_tour
from . import test_whatsapp
from . import test_viber
