import logging

from odoo import models

from ..tools.cron_wakeup import notify_cron_workers

_logger = logging.getLogger(__name__)


class IrCron(models.Model):
    _inherit = "ir.cron"

    def _notifydb(self):
        """Wake the cron workers as Odoo does, over a kept connection (see tools/cron_wakeup):
        a webhook stores an update and wakes the intake on every call. Called after the commit
        that made the job due: when PostgreSQL cannot be told, the job still runs at its next
        check, so the caller's request does not fail for it."""
        try:
            notify_cron_workers(self.env.cr.dbname)
        except Exception:
            _logger.warning("could not wake the cron workers; the job runs at their next check")
