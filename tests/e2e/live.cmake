# Live screenings end to end: the player's live feed driven by independent
# clients (the npm `ws` package, Debian's Chromium through playwright-core).
# The npm packages come from tools/bootstrap.sh (npm ci at the repository root).
find_program(DM_NODE node)
set(DM_NODE_MODULES "${CMAKE_SOURCE_DIR}/node_modules")
if(DM_NODE AND EXISTS "${DM_NODE_MODULES}/ws" AND TARGET danmaku AND TARGET danmaku-convert)
  set(_live_dir "${CMAKE_CURRENT_SOURCE_DIR}/e2e/live")
  set(_live_args --player $<TARGET_FILE:danmaku> --convert $<TARGET_FILE:danmaku-convert>
      --film ${CMAKE_SOURCE_DIR}/assets/demo/demo.mp4)
  foreach(_t feed abuse crash session rewind)
    add_test(NAME live_${_t}
      COMMAND ${DM_NODE} ${_live_dir}/${_t}.js ${_live_args} --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-${_t})
    set_tests_properties(live_${_t} PROPERTIES LABELS "e2e;live" TIMEOUT 180
      ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
  endforeach()
  find_program(DM_CHROMIUM chromium)
  if(DM_CHROMIUM AND EXISTS "${DM_NODE_MODULES}/playwright-core")
    add_test(NAME live_browser
      COMMAND ${DM_NODE} ${_live_dir}/browser.js ${_live_args} --chromium ${DM_CHROMIUM}
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-browser)
    set_tests_properties(live_browser PROPERTIES LABELS "e2e;live;browser" TIMEOUT 180
      ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
  else()
    message(STATUS "live_browser test skipped: needs chromium and playwright-core (tools/bootstrap.sh)")
  endif()
  if(TARGET danmaku-flood)
    add_test(NAME live_flood_tool
      COMMAND ${DM_NODE} ${_live_dir}/flood.js ${_live_args} --flood $<TARGET_FILE:danmaku-flood>
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-flood)
    set_tests_properties(live_flood_tool PROPERTIES LABELS "e2e;live" TIMEOUT 180
      ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
  endif()
else()
  message(STATUS "live feed end-to-end tests skipped: needs node and npm packages (tools/bootstrap.sh)")
endif()
