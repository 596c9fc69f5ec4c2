# The host console end to end: authentication (auth.js), the blocklist
# through the server with CJK, full-width and half-width text (blocklist.js),
# and every console action in Debian's Chromium with its effect on the
# audience page and on the player's frames (console.js, which makes its film
# with ffmpeg), and the order of a clear and the comments around it
# (clear.js). Clients: the npm `ws` package and playwright-core, from
# tools/bootstrap.sh (npm ci at the repository root).
find_program(DM_NODE node)
set(DM_NODE_MODULES "${PROJECT_SOURCE_DIR}/node_modules")
if(DM_NODE AND EXISTS "${DM_NODE_MODULES}/ws" AND TARGET dm_net AND TARGET danmaku AND TARGET danmaku-convert)
  set(_host_dir "${CMAKE_CURRENT_SOURCE_DIR}/e2e/host")
  set(_host_args --player $<TARGET_FILE:danmaku> --convert $<TARGET_FILE:danmaku-convert>
      --film ${PROJECT_SOURCE_DIR}/assets/demo/demo.mp4)
  set(_host_env "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
  foreach(_t auth blocklist clear regex list)
    add_test(NAME host_${_t}
      COMMAND ${DM_NODE} ${_host_dir}/${_t}.js ${_host_args} --workdir ${CMAKE_CURRENT_BINARY_DIR}/host-${_t})
    set_tests_properties(host_${_t} PROPERTIES LABELS "e2e;host" TIMEOUT 180 ENVIRONMENT "${_host_env}")
  endforeach()
  find_program(DM_CHROMIUM chromium)
  find_program(DM_HOST_FFMPEG ffmpeg)
  if(DM_CHROMIUM AND DM_HOST_FFMPEG AND EXISTS "${DM_NODE_MODULES}/playwright-core")
    add_test(NAME host_console
      COMMAND ${DM_NODE} ${_host_dir}/console.js ${_host_args} --chromium ${DM_CHROMIUM} --ffmpeg ${DM_HOST_FFMPEG}
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/host-console)
    set_tests_properties(host_console PROPERTIES LABELS "e2e;host;browser" TIMEOUT 240 ENVIRONMENT "${_host_env}")
    # a live night run from the console: every film control, on the screen and on the audience page
    add_test(NAME host_night_console
      COMMAND ${DM_NODE} ${_host_dir}/night_console.js ${_host_args} --chromium ${DM_CHROMIUM} --ffmpeg ${DM_HOST_FFMPEG}
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/host-night-console)
    set_tests_properties(host_night_console PROPERTIES LABELS "e2e;host;browser" TIMEOUT 180 ENVIRONMENT "${_host_env}")
  else()
    message(STATUS "host_console test skipped: needs chromium, ffmpeg and playwright-core (tools/bootstrap.sh)")
  endif()
else()
  message(STATUS "host console end-to-end tests skipped: needs node and npm packages (tools/bootstrap.sh)")
endif()
