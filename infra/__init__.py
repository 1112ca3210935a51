"""The running stack: embedded SeaweedFS + Prefect server, and the Dask cluster choice."""
