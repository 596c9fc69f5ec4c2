# danmaku-render: the YUV blender (unit) and the program end to end on films
# made at test time with the ffmpeg command-line tools (skipped without them).
dm_add_unit_test(test_burnin_overlay
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/../unit/test_burnin_overlay.c
  LIBS dm_burnin
  LABELS render)

find_program(DM_FFMPEG_EXECUTABLE ffmpeg)
find_program(DM_FFPROBE_EXECUTABLE ffprobe)
find_package(Python3 COMPONENTS Interpreter)
if(DM_FFMPEG_EXECUTABLE AND DM_FFPROBE_EXECUTABLE AND Python3_Interpreter_FOUND)
  # One test per aspect, so a failure names what broke:
  #   output    ffprobe: H.264, the film's duration, sound, the requested size (MP4 and MKV)
  #   golden    a frame of the output against the player's headless screenshot (same size, letterboxed)
  #   audio     sound copied where the container takes it, re-encoded to AAC where not
  #   range     --start/--end: duration, frame count, comments on the film's clock
  #   interrupt Ctrl-C: a playable file with exactly the frames rendered
  #   broken    missing/garbage inputs: one line and a non-zero exit; damaged films render
  #   null      --null renders every frame and writes nothing
  foreach(check output golden audio range interrupt broken null)
    add_test(NAME render_${check}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/render_e2e.py ${check}
              $<TARGET_FILE:danmaku-render> $<TARGET_FILE:danmaku>
              ${DM_FFMPEG_EXECUTABLE} ${DM_FFPROBE_EXECUTABLE} ${CMAKE_CURRENT_BINARY_DIR}/render-e2e)
    set_tests_properties(render_${check} PROPERTIES LABELS "e2e;render" TIMEOUT 600
      ENVIRONMENT "SDL_VIDEODRIVER=dummy;SDL_AUDIODRIVER=dummy")
  endforeach()
else()
  message(STATUS "danmaku-render end-to-end tests skipped: ffmpeg, ffprobe or Python 3 not found")
endif()
