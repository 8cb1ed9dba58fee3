from . import sla
