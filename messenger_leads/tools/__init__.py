from . import assignment
from . import sla
