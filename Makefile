# persona: the two commands.
#   make demo   build, install, start a private cluster, generate a shop, run the pipeline, show the result
#               (PERSONA_DEMO_USERS=100000 make demo for a bigger shop; see scripts/demo.sh)
#   make test   every test layer (unit, pg_test, pg_regress, end-to-end)
# Both install whatever is missing first (scripts/setup.sh), so they work on a fresh Debian 12 machine as root.

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
export PG_CONFIG

.PHONY: demo test setup install bench clean-state

demo: setup
	scripts/demo.sh

test: setup
	scripts/test.sh

setup:
	scripts/setup.sh

install: setup
	cargo pgrx install --release --pg-config $(PG_CONFIG)

bench: install
	bench/embed.sh
	bench/vec_avg.sh
	bench/item2vec.sh
	bench/profiles.sh
	bench/kmeans.sh
	bench/kmeans_reviews.sh
	bench/recommend.sh

clean-state:
	scripts/cluster.sh stop demo || true
	scripts/cluster.sh stop regress || true
	rm -rf /var/tmp/persona
