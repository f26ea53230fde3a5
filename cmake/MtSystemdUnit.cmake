# mt_install_systemd_unit(DAEMON): install doc/<dir>/DAEMON.service, whose
# ExecStart names /usr/sbin/DAEMON, with the daemon's path as this install
# puts it (the prefix is read at install time, so cmake --install --prefix
# works too), into MT_SYSTEMD_UNITDIR (relative to the prefix or absolute).
set(MT_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "systemd unit directory, relative to the install prefix or absolute")

function(mt_install_systemd_unit daemon)
  if(IS_ABSOLUTE "${MT_SYSTEMD_UNITDIR}")
    set(unitdir "${MT_SYSTEMD_UNITDIR}")
  else()
    set(unitdir "\${CMAKE_INSTALL_PREFIX}/${MT_SYSTEMD_UNITDIR}")
  endif()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_SBINDIR}")
    set(sbin "${CMAKE_INSTALL_SBINDIR}")
  else()
    set(sbin "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}")
  endif()
  install(CODE "
    file(READ \"${CMAKE_CURRENT_SOURCE_DIR}/${daemon}.service\" mt_unit)
    string(REPLACE \"/usr/sbin/${daemon}\" \"${sbin}/${daemon}\" mt_unit \"\${mt_unit}\")
    message(STATUS \"Installing: \$ENV{DESTDIR}${unitdir}/${daemon}.service\")
    file(WRITE \"\$ENV{DESTDIR}${unitdir}/${daemon}.service\" \"\${mt_unit}\")
  ")
endfunction()
