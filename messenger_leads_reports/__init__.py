from . import models
from . import report


def uninstall_hook(env):
    env["messenger.lead.report.aggregate"]._drop_triggers()
