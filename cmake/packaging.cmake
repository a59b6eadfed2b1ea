# Debian package of redis-push-daemon, built with CPack:
#
#   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
#   cmake --build build -j2
#   (cd build && cpack -G DEB)      # -> build/redis-push-daemon_<version>_<arch>.deb
#
# Included from the top-level CMakeLists.txt after its install(TARGETS ...).
# Package layout:
#   /usr/bin/redis-push-daemon                        (install(TARGETS) at the top level)
#   /etc/redis-push-daemon/push.json                  conffile
#   /lib/systemd/system/redis-push-daemon.service
#   /usr/share/man/man8/redis-push-daemon.8.gz
#   /usr/share/doc/redis-push-daemon/                 README.md, copyright, docs/*.md
# Runtime dependencies come from dpkg-shlibdeps (package dpkg-dev).

include(GNUInstallDirs)

set(RPD_PKG_SYSCONFDIR "/etc/redis-push-daemon" CACHE PATH "Configuration folder of the package (absolute)")
set(RPD_PKG_UNITDIR "/lib/systemd/system" CACHE PATH "systemd system unit folder of the package (absolute)")
set(RPD_PKG_DOCDIR "${CMAKE_INSTALL_DATAROOTDIR}/doc/redis-push-daemon")

# --- man page: docs/redis-push-daemon.8 (roff), version stamped, gzipped -----
set(_rpd_man_src "${CMAKE_CURRENT_SOURCE_DIR}/docs/redis-push-daemon.8")
set(_rpd_man "${CMAKE_CURRENT_BINARY_DIR}/man/redis-push-daemon.8")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_rpd_man_src}")
file(READ "${_rpd_man_src}" _rpd_man_text)
string(REGEX REPLACE "\"redis-push-daemon [0-9][^\"]*\"" "\"redis-push-daemon ${PROJECT_VERSION}\""
       _rpd_man_text "${_rpd_man_text}")
file(CONFIGURE OUTPUT "${_rpd_man}" CONTENT "${_rpd_man_text}" @ONLY)
find_program(RPD_GZIP gzip REQUIRED)
add_custom_command(
  OUTPUT "${_rpd_man}.gz"
  COMMAND "${RPD_GZIP}" -9 -n -c "${_rpd_man}" > "${_rpd_man}.gz"
  DEPENDS "${_rpd_man}"
  COMMENT "Compressing the man page redis-push-daemon.8"
  VERBATIM)
add_custom_target(rpd_man_page ALL DEPENDS "${_rpd_man}.gz")

# --- files ------------------------------------------------------------------
install(FILES "${_rpd_man}.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man8")
install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/config/push.json"
        DESTINATION "${RPD_PKG_SYSCONFDIR}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/config/redis-push-daemon.service"
        DESTINATION "${RPD_PKG_UNITDIR}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/README.md" DESTINATION "${RPD_PKG_DOCDIR}")
install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/LICENSE" DESTINATION "${RPD_PKG_DOCDIR}" RENAME copyright)
foreach(_rpd_doc protocol.md config.md operations.md architecture.md)
  if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/docs/${_rpd_doc}")
    install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/docs/${_rpd_doc}" DESTINATION "${RPD_PKG_DOCDIR}")
  endif()
endforeach()
if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/docs/demo.png")
  install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/docs/demo.png" DESTINATION "${RPD_PKG_DOCDIR}")
endif()
install(DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/examples/" DESTINATION "${RPD_PKG_DOCDIR}/examples"
        USE_SOURCE_PERMISSIONS)

# --- CPack --------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "redis-push-daemon")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "redis-push-daemon")
set(CPACK_PACKAGE_CONTACT "redis-push-daemon maintainers <maintainers@redis-push-daemon.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "HTTP long-poll push of Redis-backed task state")
set(CPACK_PACKAGE_DESCRIPTION
"redis-push-daemon lets a web page wait for a background task without
polling: the page asks GET /task/<id>?watch, a worker writes the task's state
to Redis (SET RA_D_<id>, PUBLISH RA_SC_<id>) and the daemon answers the
waiting request at once. Drop-in successor of redis-ajax-push, with HTTP
status codes, health checks, Prometheus metrics and systemd readiness.")
set(CPACK_RESOURCE_FILE_LICENSE "${CMAKE_CURRENT_SOURCE_DIR}/LICENSE")

# Everything under /usr; the absolute /etc and /lib paths above go through
# DESTDIR into the staging tree (never onto the build machine).
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT") # redis-push-daemon_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_NAME "redis-push-daemon")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The configuration is a conffile: dpkg keeps local edits across upgrades and
# removes it only on purge.
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/deb/conffiles" "${RPD_PKG_SYSCONFDIR}/push.json\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_BINARY_DIR}/deb/conffiles"
    "${CMAKE_CURRENT_SOURCE_DIR}/cmake/deb/postinst"
    "${CMAKE_CURRENT_SOURCE_DIR}/cmake/deb/prerm"
    "${CMAKE_CURRENT_SOURCE_DIR}/cmake/deb/postrm")

include(CPack)
