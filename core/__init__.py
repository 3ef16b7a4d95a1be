"""The Dagster-free core: warehouse access, trading calendar, configuration, the extract
reader/validator and the table registry. models/ and reports/ import only this."""
