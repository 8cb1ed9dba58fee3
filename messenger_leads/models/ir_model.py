from odoo import models

from ..tools.gc_freeze import freeze_long_lived


class IrModel(models.Model):
    _inherit = "ir.model"

    def _register_hook(self):
        """Run once the registry is loaded, in every process: its objects live as long as the
        process, so the garbage collector stops walking them (see tools/gc_freeze)."""
        super()._register_hook()
        freeze_long_lived()
