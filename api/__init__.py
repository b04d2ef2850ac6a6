"""The versioned read-only open-data API, /api/v1/ (see docs/api.md)."""
