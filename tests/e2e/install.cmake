# The installed programs: `cmake --install` into a prefix of its own (the
# fixture), then the installed player on the demo from another folder and
# from a moved copy of the tree, the installed converter on a track, the
# manual pages against --help, the bash completion and the desktop entry.
set(DM_INSTALL_TEST_PREFIX "${CMAKE_CURRENT_BINARY_DIR}/install-test/usr")
set(_install_py ${CMAKE_CURRENT_SOURCE_DIR}/e2e/install_e2e.py)
add_test(NAME install_setup
  COMMAND ${Python3_EXECUTABLE} ${_install_py} install ${PROJECT_BINARY_DIR} ${DM_INSTALL_TEST_PREFIX} ${CMAKE_COMMAND})
set_tests_properties(install_setup PROPERTIES FIXTURES_SETUP installed LABELS "e2e;install")
foreach(_t run man completion desktop)
  add_test(NAME install_${_t} COMMAND ${Python3_EXECUTABLE} ${_install_py} ${_t} ${DM_INSTALL_TEST_PREFIX})
  set_tests_properties(install_${_t} PROPERTIES FIXTURES_REQUIRED installed LABELS "e2e;install"
    ENVIRONMENT "${DM_TEST_ENV}" SKIP_RETURN_CODE 77)
endforeach()
