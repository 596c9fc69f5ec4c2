# Live screenings end to end: the player's live feed driven by independent
# clients (the npm `ws` package, Debian's Chromium through playwright-core).
# The npm packages come from tools/bootstrap.sh (npm ci at the repository root).
find_program(DM_NODE node)
set(DM_NODE_MODULES "${PROJECT_SOURCE_DIR}/node_modules")
if(DM_NODE AND EXISTS "${DM_NODE_MODULES}/ws" AND TARGET dm_net AND TARGET danmaku AND TARGET danmaku-convert)
  set(_live_dir "${CMAKE_CURRENT_SOURCE_DIR}/e2e/live")
  set(_live_args --player $<TARGET_FILE:danmaku> --convert $<TARGET_FILE:danmaku-convert>
      --film ${PROJECT_SOURCE_DIR}/assets/demo/demo.mp4)
  foreach(_t feed abuse crash session rewind stall conformance night)
    add_test(NAME live_${_t}
      COMMAND ${DM_NODE} ${_live_dir}/${_t}.js ${_live_args} --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-${_t})
    set_tests_properties(live_${_t} PROPERTIES LABELS "e2e;live" TIMEOUT 180 SKIP_RETURN_CODE 77
      ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
  endforeach()
  # a dense track (real, or the generated one without ../shared) and 200 live comments in one layout
  add_test(NAME live_mixed
    COMMAND ${DM_NODE} ${_live_dir}/mixed.js ${_live_args} --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-mixed
            --track-real ${DM_TRACKS_DIR}/bilibili-burst-111s.xml
            --track-gen ${DM_GEN_TRACKS_DIR}/gen-bilibili-dense-180s.xml
            --checker ${DM_SHARED_DIR}/tools/layout-check --dumpcheck ${CMAKE_CURRENT_SOURCE_DIR}/e2e/dumpcheck.py)
  set_tests_properties(live_mixed PROPERTIES LABELS "e2e;live" TIMEOUT 180 FIXTURES_REQUIRED gen_tracks
    ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
  # the disk fills and frees: a small tmpfs in a mount namespace of the test's own (skipped where none can be made)
  add_test(NAME live_diskfull
    COMMAND ${DM_NODE} ${_live_dir}/diskfull.js ${_live_args} --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-diskfull)
  set_tests_properties(live_diskfull PROPERTIES LABELS "e2e;live" TIMEOUT 180 SKIP_RETURN_CODE 77
    ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
  # at the file-descriptor limit (prlimit from util-linux; skipped without it)
  add_test(NAME live_fdlimit
    COMMAND ${DM_NODE} ${_live_dir}/fdlimit.js ${_live_args} --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-fdlimit)
  set_tests_properties(live_fdlimit PROPERTIES LABELS "e2e;live" TIMEOUT 120 SKIP_RETURN_CODE 77
    ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
  # memory over a flood of 80,000 comments: the live feed alone stays flat (tools/soak-live.sh, bench-net-soak)
  if(TARGET danmaku-flood AND TARGET bench-net-soak)
    # (a sanitizer's RSS is its quarantine and shadow memory, not the feed's: skipped there)
    if(DM_SANITIZE OR DM_TSAN)
      set(_soak_skip "SOAK_SKIP=a sanitizer build: its RSS measures the sanitizer's quarantine, not the feed")
    else()
      set(_soak_skip "SOAK_SKIP=")
    endif()
    add_test(NAME net_soak
      COMMAND ${CMAKE_COMMAND} -E env SOAK_SECONDS=40 CLIENTS=50 RATE=2000 WARMUP=10 CHECK_MB=4 TARGET=net
              "${_soak_skip}" OUT=${CMAKE_CURRENT_BINARY_DIR}/soak-net ${PROJECT_SOURCE_DIR}/tools/soak-live.sh
              ${PROJECT_BINARY_DIR})
    set_tests_properties(net_soak PROPERTIES LABELS "soak;net;live" TIMEOUT 180 SKIP_RETURN_CODE 77)
  endif()
  # the comment bus: a real nats-server -js, two gateways, two players (skipped without nats-server)
  if(TARGET danmaku-gate)
    find_program(DM_NATS_SERVER nats-server PATHS /usr/sbin /usr/bin)
    if(NOT DM_NATS_SERVER)
      set(DM_NATS_SERVER "")
    endif()
    add_test(NAME live_bus
      COMMAND ${DM_NODE} ${_live_dir}/bus.js ${_live_args} --gate $<TARGET_FILE:danmaku-gate>
              --nats "${DM_NATS_SERVER}" --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-bus)
    set_tests_properties(live_bus PROPERTIES LABELS "e2e;live;bus" TIMEOUT 180 SKIP_RETURN_CODE 77
      ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
    # the host console through the bus: a rule, a delete and a ban reach the other gateway and both screens
    add_test(NAME live_bus_host
      COMMAND ${DM_NODE} ${_live_dir}/bus_host.js ${_live_args} --gate $<TARGET_FILE:danmaku-gate>
              --nats "${DM_NATS_SERVER}" --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-bus-host)
    set_tests_properties(live_bus_host PROPERTIES LABELS "e2e;live;bus;host" TIMEOUT 180 SKIP_RETURN_CODE 77
      ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
    # a three-node cluster, SIGKILLs of a node, a gateway and a player mid-flood; the page in Chromium
    find_program(DM_CHROMIUM_FOR_BUS chromium)
    if(NOT DM_CHROMIUM_FOR_BUS)
      set(DM_CHROMIUM_FOR_BUS "")
    endif()
    add_test(NAME live_bus_cluster
      COMMAND ${DM_NODE} ${_live_dir}/bus_cluster.js ${_live_args} --gate $<TARGET_FILE:danmaku-gate>
              --nats "${DM_NATS_SERVER}" --chromium "${DM_CHROMIUM_FOR_BUS}"
              --workdir ${CMAKE_CURRENT_BINARY_DIR}/live-bus-cluster)
    set_tests_properties(live_bus_cluster PROPERTIES LABELS "e2e;live;bus" TIMEOUT 240 SKIP_RETURN_CODE 77
      RUN_SERIAL TRUE ENVIRONMENT "${DM_TEST_ENV};NODE_PATH=${DM_NODE_MODULES};SDL_VIDEODRIVER=dummy")
  endif()
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
