import gc

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestGcFreeze(TransactionCase):
    def test_the_loaded_registry_is_left_out_of_garbage_collections(self):
        """Once the registry is loaded, a full collection walks only what requests make:
        the registry and its model classes are frozen (see tools/gc_freeze)."""
        self.assertGreater(gc.get_freeze_count(), 10_000)
        walked = {id(obj) for obj in gc.get_objects()}  # every generation but the frozen one
        for long_lived in (self.registry, type(self.env["crm.lead"]), type(self.env["crm.team"])):
            self.assertNotIn(id(long_lived), walked)
