# fiSweep.cmake: fi_add_sweep(), installed with fi's CMake package
# (lib/cmake/fi/) and included by fiConfig.cmake. It registers a ctest
# test that runs `fi-run --sweep` on a program (docs/sweep.md): the test
# fails when a run crashed, hung, tripped a sanitizer or ignored an error
# that the accept file does not list.
#
#   fi_add_sweep(NAME COMMAND PROGRAM [ARGS...]
#                [JOBS N] [TIMEOUT S] [ACCEPT FILE] [WORKDIR DIR]
#                [JSON FILE] [JUNIT FILE] [SWEEP_ARGS OPTION...]
#                [TEST_TIMEOUT S] [LABELS LABEL...])
#
# PROGRAM may be a target of the project. JSON and JUNIT default to
# NAME.json and NAME.xml in the current binary directory. SWEEP_ARGS go to
# fi-run as they are (--syscalls, --errnos, --max-runs, --shard, ...).
# TEST_TIMEOUT is ctest's (default 1500 s); the test is labelled fi-sweep.

find_program(FI_RUN_EXECUTABLE fi-run
  HINTS "${CMAKE_CURRENT_LIST_DIR}/../../../bin"
        "${CMAKE_CURRENT_LIST_DIR}/../../../../bin"
  NO_DEFAULT_PATH)
find_program(FI_RUN_EXECUTABLE fi-run)

function(fi_add_sweep name)
  cmake_parse_arguments(PARSE_ARGV 1 _fs ""
    "JOBS;TIMEOUT;ACCEPT;WORKDIR;JSON;JUNIT;TEST_TIMEOUT"
    "COMMAND;SWEEP_ARGS;LABELS")
  if(_fs_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "fi_add_sweep(${name}): unknown arguments: ${_fs_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT _fs_COMMAND)
    message(FATAL_ERROR "fi_add_sweep(${name}): COMMAND PROGRAM [ARGS...] is required")
  endif()
  if(NOT FI_RUN_EXECUTABLE)
    message(FATAL_ERROR "fi_add_sweep(${name}): fi-run was not found beside fi's CMake package or in PATH")
  endif()
  list(POP_FRONT _fs_COMMAND _prog)
  if(TARGET ${_prog})
    set(_prog "$<TARGET_FILE:${_prog}>")
  endif()
  if(NOT _fs_JSON)
    set(_fs_JSON "${CMAKE_CURRENT_BINARY_DIR}/${name}.json")
  endif()
  if(NOT _fs_JUNIT)
    set(_fs_JUNIT "${CMAKE_CURRENT_BINARY_DIR}/${name}.xml")
  endif()
  set(_opts --sweep --json "${_fs_JSON}" --junit "${_fs_JUNIT}")
  if(_fs_JOBS)
    list(APPEND _opts -j ${_fs_JOBS})
  endif()
  if(_fs_TIMEOUT)
    list(APPEND _opts --timeout ${_fs_TIMEOUT})
  endif()
  if(_fs_ACCEPT)
    get_filename_component(_acc "${_fs_ACCEPT}" ABSOLUTE)
    list(APPEND _opts --accept "${_acc}")
  endif()
  if(_fs_WORKDIR)
    get_filename_component(_wd "${_fs_WORKDIR}" ABSOLUTE)
    list(APPEND _opts --workdir "${_wd}")
  endif()
  if(NOT _fs_TEST_TIMEOUT)
    set(_fs_TEST_TIMEOUT 1500)
  endif()
  add_test(NAME ${name}
    COMMAND "${FI_RUN_EXECUTABLE}" ${_opts} ${_fs_SWEEP_ARGS} -- ${_prog} ${_fs_COMMAND})
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${_fs_TEST_TIMEOUT} LABELS "fi-sweep;${_fs_LABELS}")
endfunction()
