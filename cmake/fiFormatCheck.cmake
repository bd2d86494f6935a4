# The format-check target: clang-format --dry-run --Werror over the
# project's C sources and headers, against the root .clang-format. Not a
# test; run it with `ninja format-check` (or cmake --build B -t format-check).
#
# Included by the top CMakeLists; when run with `cmake -P` (FI_FORMAT_RUN
# set), it does the check itself and lists the files that differ.

if(NOT FI_FORMAT_RUN)
  find_program(FI_CLANG_FORMAT NAMES clang-format clang-format-16
               clang-format-15 clang-format-14)
  if(FI_CLANG_FORMAT)
    add_custom_target(format-check
      COMMAND ${CMAKE_COMMAND} -DFI_FORMAT_RUN=ON
              -DFI_CLANG_FORMAT=${FI_CLANG_FORMAT}
              -DFI_SOURCE_DIR=${PROJECT_SOURCE_DIR}
              -P ${CMAKE_CURRENT_LIST_FILE}
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      COMMENT "Checking C formatting against .clang-format"
      VERBATIM)
  else()
    add_custom_target(format-check
      COMMAND ${CMAKE_COMMAND} -E echo "format-check: clang-format not found (ci/setup.sh format)"
      COMMAND ${CMAKE_COMMAND} -E false
      VERBATIM)
  endif()
  return()
endif()

# The project's own C files; build trees and generated files are not ours.
set(_files)
foreach(_dir include libfi cli test bench)
  file(GLOB_RECURSE _found RELATIVE ${FI_SOURCE_DIR}
       ${FI_SOURCE_DIR}/${_dir}/*.c ${FI_SOURCE_DIR}/${_dir}/*.h)
  list(APPEND _files ${_found})
endforeach()
list(SORT _files)

set(_bad)
list(LENGTH _files _total)
foreach(_f IN LISTS _files)
  execute_process(
    COMMAND ${FI_CLANG_FORMAT} --dry-run --Werror --ferror-limit=1 ${_f}
    WORKING_DIRECTORY ${FI_SOURCE_DIR}
    RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT _rc EQUAL 0)
    list(APPEND _bad ${_f})
  endif()
endforeach()

list(LENGTH _bad _nbad)
if(_nbad EQUAL 0)
  message(STATUS "format-check: all ${_total} files match .clang-format")
else()
  list(JOIN _bad "\n  " _list)
  message(FATAL_ERROR
    "format-check: ${_nbad} of ${_total} files differ from .clang-format:\n"
    "  ${_list}\n"
    "See the changes with: clang-format FILE | diff FILE -")
endif()
