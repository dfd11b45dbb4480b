# Writes each file of FILES as a {"name", R"moe(text)moe"} initializer into OUTPUT.
set(content "// Generated from lib/Std by EmbedFiles.cmake. Do not edit.\n")
foreach(file IN LISTS FILES)
  get_filename_component(name ${file} NAME)
  file(READ ${file} text)
  string(APPEND content "{\"${name}\", R\"moe(${text})moe\"},\n")
endforeach()
file(WRITE ${OUTPUT} "${content}")
