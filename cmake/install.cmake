# SPDX-License-Identifier: Apache-2.0
# `cmake --install build [--prefix P]`: pathbench runs from the installed prefix, not only from the
# source tree (the prefix can be chosen at install time: the binary finds its data relative to
# itself, roles/topology.cpp topology_script()).
#   P/bin/pathbench, pathbench-tproxy, pathbench-micro, pathbench-analysis
#   P/share/pathbench/netns/topology.sh   the topology script the binary runs
#   P/share/pathbench/bpf/*.bpf.o         the BPF objects (also embedded in the binary as skeletons;
#                                         installed for inspection with bpftool / llvm-objdump)
#   P/share/pathbench/analysis/           the Python analysis package (run with Debian's python3)
#   P/share/doc/pathbench/                README, LICENSE, docs/, results/README.md
install(TARGETS pathbench-tproxy pathbench-micro RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS ${CMAKE_SOURCE_DIR}/netns/topology.sh DESTINATION ${CMAKE_INSTALL_DATADIR}/pathbench/netns)
file(GLOB PB_INSTALL_BPF_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bpf/*.bpf.c)
foreach(src ${PB_INSTALL_BPF_SOURCES})
  get_filename_component(fname ${src} NAME)
  string(REGEX REPLACE "\\.bpf\\.c$" ".bpf.o" obj ${fname})
  install(FILES ${CMAKE_BINARY_DIR}/bpf/${obj} DESTINATION ${CMAKE_INSTALL_DATADIR}/pathbench/bpf)
endforeach()
install(DIRECTORY ${CMAKE_SOURCE_DIR}/analysis DESTINATION ${CMAKE_INSTALL_DATADIR}/pathbench
        FILES_MATCHING PATTERN "*.py" PATTERN "tests" EXCLUDE PATTERN "__pycache__" EXCLUDE)
install(PROGRAMS ${CMAKE_SOURCE_DIR}/analysis/pathbench-analysis DESTINATION ${CMAKE_INSTALL_DATADIR}/pathbench/analysis)
install(CODE "file(WRITE \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/pathbench-analysis\"
  \"#!/bin/sh\\n# pathbench-analysis: the installed analysis package (share/pathbench/analysis)\\nexec \\\"\\$(dirname \\\"\\$0\\\")/../${CMAKE_INSTALL_DATADIR}/pathbench/analysis/pathbench-analysis\\\" \\\"\\$@\\\"\\n\")
  file(CHMOD \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/pathbench-analysis\"
       PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)")
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/results/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME results-schema.md)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs ${CMAKE_SOURCE_DIR}/LICENSES DESTINATION ${CMAKE_INSTALL_DOCDIR})
