from . import assignment
from . import qualification
from . import sla
