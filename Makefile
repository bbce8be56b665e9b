# pg_migrate: PGXS build of the extension, plus the two set-up commands.
#
#   make demo   install what is missing, build, install, and migrate the
#               example application in a throwaway cluster
#   make test   the same bootstrap, then every test suite
#   make test-versions
#               the suites that need no pg_cron on PostgreSQL 16 to 19,
#               from the builds in ../shared/pg (see .ci/test-versions)
#
# Both work on a machine that has no PostgreSQL development files yet: PGXS
# is included only when it exists, and the scripts under .ci/ install it.

EXTENSION = pg_migrate
MODULE_big = pg_migrate
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA = $(wildcard migrations/pg_migrate--*.sql)
PGFILEDESC = "pg_migrate - schema migrations run inside the database"

# The version of the SQL objects the library runs with is the control file's
# default_version, read here and nowhere else written down: the library
# refuses to run under another installed version (src/pg_migrate.c).
MG_EXTENSION_VERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" pg_migrate.control)
ifeq ($(MG_EXTENSION_VERSION),)
$(error cannot read default_version from pg_migrate.control)
endif
PG_CPPFLAGS = -DMG_EXTENSION_VERSION='"$(MG_EXTENSION_VERSION)"'

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --outputdir=. --dbname=contrib_regression

# Isolation specs: specs/NAME.spec, expected output in expected/NAME.out
# beside pg_regress's. PGXS runs them after REGRESS in `make installcheck`,
# with output in output_iso/ (removed by `make clean`). Either kind alone:
# `make installcheck ISOLATION=` or `make installcheck REGRESS=`.
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --inputdir=. --outputdir=output_iso

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all install installcheck clean:
	@echo "PostgreSQL server development files (PGXS) not found; run 'make demo' or 'make test', which install them" >&2
	@exit 1
endif

# PGXS tracks no header dependencies: rebuild every object when a header
# changes, so that no object keeps an old struct layout.
$(OBJS): $(wildcard src/*.h)
src/pg_migrate.o: pg_migrate.control

# The client program, client/, has a Makefile of its own (PGXS builds a
# PROGRAM or a MODULE_big, not both); build, install and clean it with the
# extension.  Plain "make" still builds both: PGXS's "all" stays the first
# target, these only add to it.
ifneq ($(wildcard $(PGXS)),)
.PHONY: client-all client-install client-installdirs client-uninstall client-clean

all: client-all
install: client-install
installdirs: client-installdirs
uninstall: client-uninstall
clean: client-clean

client-all client-install client-installdirs client-uninstall client-clean:
	$(MAKE) -C client PG_CONFIG='$(PG_CONFIG)' $(patsubst client-%,%,$@)
endif

# The set-up commands come after PGXS so that plain "make" still builds.
.PHONY: demo test test-versions

demo:
	bash .ci/demo

test:
	bash .ci/test

test-versions:
	bash .ci/test-versions
