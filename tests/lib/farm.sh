# farm.sh — the integration tests' farm: the one farm library
# (scripts/lib/farm.sh, which says what it offers) with the test state set
# up. Source after sh.sh; set FARM_PREFIX first.
. "$T_ROOT/scripts/lib/farm.sh"
farm_test_setup
