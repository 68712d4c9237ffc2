"""scikit-learn's estimator checks that apply to both estimators (cubes and clip lists are not
2-D sample matrices, so ``check_estimator`` as a whole does not; see each estimator's tests)."""

import pytest
from sklearn.utils import estimator_checks

from spectranet.audio import SoundClassifier
from spectranet.hsi import HSIClassifier

CHECKS = [
    estimator_checks.check_parameters_default_constructible,
    estimator_checks.check_no_attributes_set_in_init,
    estimator_checks.check_get_params_invariance,
    estimator_checks.check_set_params,
    estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
    estimator_checks.check_estimator_cloneable,
    estimator_checks.check_estimator_repr,
    estimator_checks.check_mixin_order,
    estimator_checks.check_estimator_tags_renamed,
    estimator_checks.check_valid_tag_types,
    estimator_checks.check_estimators_unfitted,
]
ESTIMATORS = [HSIClassifier("quick", window=5, epochs=3),
              SoundClassifier("quick", filters=[4, 4, 8, 8], epochs=1)]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_sklearn_checks_that_apply(check, estimator):
    check(type(estimator).__name__, estimator)
