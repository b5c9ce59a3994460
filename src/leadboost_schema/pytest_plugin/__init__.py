"""The pytest plugin (entry points ``leadboost_schema`` and ``leadboost_schema_hypothesis``): options, fixtures and hooks over the library."""
