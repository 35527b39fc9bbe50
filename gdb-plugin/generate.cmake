# Writes goheap.gdb (cmake -P): the template with the path of the goheap binary
# the commands call (BIN) and one guarded go-NAME command per engine command,
# printed by the goheap binary that was just built (GOHEAP).
execute_process(COMMAND ${GOHEAP} --gdb-commands ${BIN}
  OUTPUT_VARIABLE GOHEAP_GDB_COMMANDS RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${GOHEAP} --gdb-commands failed (${rc})")
endif()
set(GOHEAP_BIN ${BIN})
set(GOHEAP_GDB_FILE ${FILE})
configure_file(${IN} ${OUT} @ONLY)
