# The pages' languages and looks (issue: the pages speak the audience's
# language). pages_i18n_keys: every translation has the English file's keys
# and every error code its sentence (no browser). pages_locales: the
# audience page, the login page and the console in Chromium under each
# language's locale (the strings, a server error's sentence, the switcher,
# --page-lang), an axe-core audit, and at 320x640 and 1280x800 nothing
# clipped. pages_room: the console's plots during a flood.
find_program(DM_PAGES_PYTHON python3)
if(DM_PAGES_PYTHON)
  add_test(NAME pages_i18n_keys COMMAND ${DM_PAGES_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/unit/i18n_keys.py ${PROJECT_SOURCE_DIR})
  set_tests_properties(pages_i18n_keys PROPERTIES LABELS "unit;pages")
endif()
find_program(DM_PAGES_NODE node)
find_program(DM_PAGES_CHROMIUM chromium)
set(_pages_modules "${PROJECT_SOURCE_DIR}/node_modules")
if(DM_PAGES_NODE AND DM_PAGES_CHROMIUM AND EXISTS "${_pages_modules}/playwright-core" AND EXISTS "${_pages_modules}/@axe-core/playwright"
   AND TARGET danmaku AND TARGET danmaku-convert AND TARGET dm_net)
  set(_pages_dir "${CMAKE_CURRENT_SOURCE_DIR}/e2e/pages")
  set(_pages_env "${DM_TEST_ENV};NODE_PATH=${_pages_modules};SDL_VIDEODRIVER=dummy")
  foreach(_t locales room)
    add_test(NAME pages_${_t}
      COMMAND ${DM_PAGES_NODE} ${_pages_dir}/${_t}.js --player $<TARGET_FILE:danmaku> --convert $<TARGET_FILE:danmaku-convert>
              --film ${PROJECT_SOURCE_DIR}/assets/demo/demo.mp4 --chromium ${DM_PAGES_CHROMIUM}
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/pages-${_t})
    set_tests_properties(pages_${_t} PROPERTIES LABELS "e2e;pages;browser" TIMEOUT 300 ENVIRONMENT "${_pages_env}")
  endforeach()
else()
  message(STATUS "pages browser tests skipped: need node, chromium, playwright-core and @axe-core/playwright (tools/bootstrap.sh)")
endif()
