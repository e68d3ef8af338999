# The libFuzzer targets: tests/fuzz/fuzz_<name>.c each, with seeds in
# corpus/<name>/ and replayed findings in regressions/<name>/.
set(CR_FUZZ_TARGETS toml yaml_pipeline payload rules trace zip dotenv
  cache_key)
