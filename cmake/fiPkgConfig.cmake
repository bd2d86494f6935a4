# Install-time script: writes fi.pc for the prefix being installed into.
# `cmake --install build --prefix P` only changes CMAKE_INSTALL_PREFIX at
# install time, so a .pc configured at configure time would name the wrong
# prefix. The top CMakeLists sets FI_PC_* before this runs.

foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${FI_PC_${_dir}}")
    set(CMAKE_INSTALL_FULL_${_dir} "${FI_PC_${_dir}}")
  else()
    set(CMAKE_INSTALL_FULL_${_dir} "${CMAKE_INSTALL_PREFIX}/${FI_PC_${_dir}}")
  endif()
endforeach()
set(PROJECT_VERSION "${FI_PC_VERSION}")
set(PROJECT_DESCRIPTION "${FI_PC_DESCRIPTION}")
configure_file("${FI_PC_IN}" "${FI_PC_OUT}" @ONLY)
