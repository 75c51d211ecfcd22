from tracker.models import Label

from nango_scripts import BlockingNangoSync, sync


# A plain `def` works too: the context's methods then block instead of being awaited.
@sync(models=[Label], frequency="every day", sync_type="full", track_deletes=True)
def labels(nango: BlockingNangoSync) -> None:
    response = nango.get("/labels")
    nango.batch_save(response.json(), Label)
