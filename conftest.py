"""Root conftest: intentionally nearly empty. The fixtures come from the leadboost_schema pytest plugin
(registered by the package's pytest11 entry point); see docs/plugin.md."""

pytest_plugins = ("pytester",)  # the plugin's own tests (tests/) run example files with pytester
