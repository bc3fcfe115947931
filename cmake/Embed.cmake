# breakpilot_embed(OUT FILES a b c): compiles files into the binary as string views, looked up by
# their path relative to the source tree (see src/core/embedded.hpp).
function(breakpilot_embed out)
  cmake_parse_arguments(ARG "" "" "FILES" ${ARGN})
  set(abs_files "")
  foreach(f IN LISTS ARG_FILES)
    get_filename_component(abs "${f}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
    list(APPEND abs_files "${abs}")
  endforeach()
  string(REPLACE ";" "|" joined "${abs_files}")
  add_custom_command(OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DROOT=${CMAKE_SOURCE_DIR} "-DFILES=${joined}"
            -P ${CMAKE_SOURCE_DIR}/cmake/EmbedScript.cmake
    DEPENDS ${abs_files} ${CMAKE_SOURCE_DIR}/cmake/EmbedScript.cmake
    COMMENT "Embedding data files"
    VERBATIM)
endfunction()
