# The format-check target: ci/format.sh --check, the project's C files
# against the root .clang-format (the files that differ are listed, with
# how many lines). Not a test; run it with `ninja format-check` (or
# cmake --build B -t format-check). ci/format.sh --fix reformats them.

find_program(FI_SH sh)
add_custom_target(format-check
  COMMAND ${FI_SH} ${PROJECT_SOURCE_DIR}/ci/format.sh --check
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  COMMENT "Checking C formatting against .clang-format (ci/format.sh)"
  VERBATIM)
