# fiCoverage.cmake: fi_coverage(), installed with fi's CMake package
# (lib/cmake/fi/) and included by fiConfig.cmake, for the cmocka path of
# docs/coverage.md.
#
#   fi_coverage(TARGET...)
#
# Builds each target with --coverage (compiling and linking) and, for
# executables, exports libgcov's __gcov_dump and __gcov_reset, which libfi
# calls to keep the counts of each window of armed rules apart. Then
#   ${FI_COVERAGE_SCRIPT} --build ${CMAKE_BINARY_DIR} -- ctest ...
# writes the report. FI_COVERAGE_SCRIPT is fi-coverage.sh, from the
# install's share/fi (or fi's source tree's coverage/).

find_program(FI_COVERAGE_SCRIPT fi-coverage.sh
  HINTS "${CMAKE_CURRENT_LIST_DIR}/../../../share/fi"
        "${CMAKE_CURRENT_LIST_DIR}/../../../../share/fi"
        "${CMAKE_CURRENT_LIST_DIR}/../coverage"
  NO_DEFAULT_PATH)

function(fi_coverage)
  foreach(_t IN LISTS ARGN)
    target_compile_options(${_t} PRIVATE --coverage)
    get_target_property(_type ${_t} TYPE)
    if(_type STREQUAL "EXECUTABLE")
      target_link_options(${_t} PRIVATE --coverage
        "LINKER:--undefined=__gcov_dump,--undefined=__gcov_reset"
        "LINKER:--export-dynamic-symbol=__gcov_dump,--export-dynamic-symbol=__gcov_reset")
    elseif(NOT _type STREQUAL "STATIC_LIBRARY" AND NOT _type STREQUAL "OBJECT_LIBRARY")
      target_link_options(${_t} PRIVATE --coverage)
    endif()
  endforeach()
endfunction()
