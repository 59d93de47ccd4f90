"""The bulk-upload toolkit shared by sync and catalog: bodies, row checks, batching, last writer wins."""
