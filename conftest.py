"""Root conftest: nearly empty. The fixtures come from the leadboost_schema pytest plugin (registered by the
package's pytest11 entry point); see docs/plugin.md."""
from leadboost_schema.testing.hypothesis_profiles import load_profile, profile_from_env

pytest_plugins = ("pytester",)  # the plugin's own tests (tests/) run example files with pytester

# This repository's properties run under a leadboost profile (deadline=None: a database example's time is the
# server's): LEADBOOST_HYPOTHESIS_PROFILE's, else "default". The plugin itself loads none unless asked.
load_profile(profile_from_env())
