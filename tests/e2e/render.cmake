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
  #   keepoff   --keep-off: no comment pixel inside the box, in burn-in and in the player
  foreach(check output golden audio range interrupt broken null keepoff)
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

# Film subtitles end to end (tests/e2e/subs_e2e.py) on the subs_films test films:
#   layout  dense tracks around a film's dialogue and the test films' tracks: no overlap,
#           no comment over a subtitle (both checkers), the share shown beside the one without
#   frames  each film's subtitle drawn in its box, no comment pixel inside it, seek = fresh start
#   keys    v, j/J, z/Z give the frame they should
#   burnin  burn-in with subtitles matches the player's frame, keeps duration and sound
if(DM_FFMPEG_EXECUTABLE AND DM_FFPROBE_EXECUTABLE AND Python3_Interpreter_FOUND)
  foreach(check layout frames keys burnin)
    add_test(NAME subs_${check}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/subs_e2e.py ${check}
              --player $<TARGET_FILE:danmaku> --render $<TARGET_FILE:danmaku-render>
              --convert $<TARGET_FILE:danmaku-convert> --films ${DM_SUBS_FILMS}
              --work ${CMAKE_CURRENT_BINARY_DIR}/subs-e2e --tracks ${DM_TRACKS_DIR}
              --gen-tracks ${DM_GEN_TRACKS_DIR} --checker ${DM_SHARED_DIR}/tools/layout-check)
    set_tests_properties(subs_${check} PROPERTIES LABELS "e2e;subs" TIMEOUT 900 SKIP_RETURN_CODE 77
      FIXTURES_REQUIRED "subs_films;gen_tracks" ENVIRONMENT "${DM_TEST_ENV}")
  endforeach()
endif()

# The viewer's player end to end (tests/e2e/player_e2e.py): the seek bar OSD and a click on it, the
# density graph, the filters (keys, options, rules), the config file, resume, loop, the one-line
# mistakes, Thai and Devanagari text and the warning for a code point no font has.
if(DM_FFMPEG_EXECUTABLE AND Python3_Interpreter_FOUND)
  foreach(check osd density filters config resume loop mistakes scripts)
    add_test(NAME player_${check}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/player_e2e.py ${check}
              --player $<TARGET_FILE:danmaku> --work ${CMAKE_CURRENT_BINARY_DIR}/player-e2e)
    set_tests_properties(player_${check} PROPERTIES LABELS "e2e;player" TIMEOUT 600 SKIP_RETURN_CODE 77
      ENVIRONMENT "${DM_TEST_ENV}")
  endforeach()
endif()

# A night of films (tests/e2e/night_e2e.py): a programme of three generated films with
# intermissions (screenshots of each film and card, the AIGC label and no comment over it,
# one dump per film), the command line's films, the programme file's mistakes.
if(DM_FFMPEG_EXECUTABLE AND Python3_Interpreter_FOUND)
  foreach(check night cli errors)
    add_test(NAME night_${check}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/night_e2e.py ${check}
              --player $<TARGET_FILE:danmaku> --work ${CMAKE_CURRENT_BINARY_DIR}/night-e2e
              --checker ${DM_SHARED_DIR}/tools/layout-check)
    set_tests_properties(night_${check} PROPERTIES LABELS "e2e;player;night" TIMEOUT 600 SKIP_RETURN_CODE 77
      ENVIRONMENT "${DM_TEST_ENV}")
  endforeach()
endif()

# Overlay mode (tests/e2e/overlay_e2e.py): the black stage and its key, the host's clock, and a
# real mpv followed through its IPC socket (skipped without mpv).
find_program(DM_MPV_EXECUTABLE mpv)
if(Python3_Interpreter_FOUND)
  foreach(check stage clock mpv)
    add_test(NAME overlay_${check}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/overlay_e2e.py ${check}
              --player $<TARGET_FILE:danmaku> --work ${CMAKE_CURRENT_BINARY_DIR}/overlay-e2e
              --mpv "${DM_MPV_EXECUTABLE}")
    set_tests_properties(overlay_${check} PROPERTIES LABELS "e2e;player;overlay" TIMEOUT 300 SKIP_RETURN_CODE 77
      ENVIRONMENT "${DM_TEST_ENV}")
  endforeach()
endif()

# The player's sound (tests/e2e/audio_e2e.py) on a film with two tones made at test time: pitch kept
# at 1.5x and 0.75x (dominant frequency within 2 %), A/V skew within 40 ms, the [ ] keys, --aid, #,
# --no-audio, --mute, and the one-line mistakes. Real time, headless, with --audio-dump.
if(DM_FFMPEG_EXECUTABLE AND Python3_Interpreter_FOUND)
  foreach(check speed keys tracks mistakes)
    add_test(NAME audio_${check}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/audio_e2e.py ${check}
              --player $<TARGET_FILE:danmaku> --work ${CMAKE_CURRENT_BINARY_DIR}/audio-e2e)
    set_tests_properties(audio_${check} PROPERTIES LABELS "e2e;player;audio" TIMEOUT 300 SKIP_RETURN_CODE 77
      ENVIRONMENT "${DM_TEST_ENV}")
  endforeach()
endif()
  # real-time sound: a browser test beside it on two cores starves the audio thread
  set_tests_properties(audio_speed PROPERTIES RUN_SERIAL ON)
