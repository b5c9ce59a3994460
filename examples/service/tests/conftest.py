"""The service's own Hypothesis profile, loaded the way Hypothesis documents it: the leadboost plugin must keep it
(it registers its own profiles as leadboost-* and loads one only when asked)."""
from hypothesis import settings

settings.register_profile("service", max_examples=15, stateful_step_count=10, deadline=None)
settings.load_profile("service")
