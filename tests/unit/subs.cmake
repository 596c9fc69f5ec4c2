# Tests of dm_subs. The films are made once per run by the subs_films
# fixture (tests/subs/make-films.sh, the ffmpeg command-line tool and
# make_dvdsub); without ffmpeg the film tests report themselves skipped.
add_executable(make_dvdsub ${PROJECT_SOURCE_DIR}/tests/subs/make_dvdsub.c)
target_link_libraries(make_dvdsub PRIVATE PkgConfig::LIBAV dm_warnings)

set(DM_SUBS_FILMS "${PROJECT_BINARY_DIR}/tests/subs-films")
add_test(NAME subs_films
  COMMAND sh ${PROJECT_SOURCE_DIR}/tests/subs/make-films.sh ${DM_SUBS_FILMS} $<TARGET_FILE:make_dvdsub>)
set_tests_properties(subs_films PROPERTIES FIXTURES_SETUP subs_films LABELS "unit;subs")

dm_add_unit_test(test_subs
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_subs.c
  LIBS dm_subs Threads::Threads
  LABELS subs)
target_include_directories(test_subs PRIVATE ${PROJECT_SOURCE_DIR}/tests/subs)
set_tests_properties(test_subs PROPERTIES
  FIXTURES_REQUIRED subs_films
  SKIP_RETURN_CODE 77
  TIMEOUT 600
  ENVIRONMENT "${DM_TEST_ENV};DM_SUBS_FILMS=${DM_SUBS_FILMS}")

# The attached font alone: fontconfig is given a configuration with no font
# folder, so text can only be drawn in the font the film carries.
set(DM_SUBS_NOFONTS_CONF "${CMAKE_CURRENT_BINARY_DIR}/subs-no-fonts.conf")
file(WRITE ${DM_SUBS_NOFONTS_CONF}
  "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n"
  "<fontconfig><cachedir>${CMAKE_CURRENT_BINARY_DIR}/subs-no-fonts-cache</cachedir></fontconfig>\n")
dm_add_unit_test(test_subs_fonts
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_subs_fonts.c
  LIBS dm_subs
  LABELS subs)
set_tests_properties(test_subs_fonts PROPERTIES
  FIXTURES_REQUIRED subs_films
  SKIP_RETURN_CODE 77
  ENVIRONMENT "${DM_TEST_ENV};DM_SUBS_FILMS=${DM_SUBS_FILMS};FONTCONFIG_FILE=${DM_SUBS_NOFONTS_CONF}")

# The bounds on what a script may ask libass to draw (subs_limits.c).
dm_add_unit_test(test_subs_limits
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_subs_limits.c
  LIBS dm_subs PkgConfig::LIBASS PkgConfig::LIBAV
  LABELS subs)
