# bench/bench.mk - the benchmark programs; included by the top Makefile
# (`-include bench/bench.mk`), whose variables it uses: $(BIN) $(OBJ)
# $(LIBCOMMON) $(CC) $(LDFLAGS) $(LDLIBS). Objects come from the top
# Makefile's $(OBJ)/%.o rule. `make bench` runs them through bench/run.sh.

BENCH_COMMON_OBJ := $(OBJ)/bench/leadgen.o
BENCH_PROGRAMS := $(BIN)/bench-ideal $(BIN)/bench-push

$(BIN)/bench-ideal: $(OBJ)/bench/ideal.o $(BENCH_COMMON_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/bench-push: $(OBJ)/bench/push.o $(BENCH_COMMON_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-programs: $(BENCH_PROGRAMS)

.PHONY: bench-programs
