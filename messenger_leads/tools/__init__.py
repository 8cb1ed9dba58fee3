from . import assignment
from . import callback
from . import phone
from . import qualification
from . import sla
