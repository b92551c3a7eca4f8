; Inno Setup script: per-user install without admin rights (partner staff on locked-down PCs).
;   iscc /DAppVersion=0.1.0 installer\pseudodesk.iss      (after: py installer\bootstrap.py build)
; Installs dist\pseudodesk\ into %LOCALAPPDATA%\Programs\pseudodesk, a Start-menu shortcut and an
; uninstaller. IT can install for all users from the command line:  /ALLUSERS  (admin needed then).
; Silent: pseudodesk-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART   (docs/deployment.md)

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
; A stable AppId: upgrades replace the same installation.
AppId={{6E0B3C1A-5B5E-4C5B-9C53-2B7F3E0D7A41}
AppName=pseudodesk
AppVersion={#AppVersion}
AppPublisher=pseudodesk
DefaultDirName={autopf}\pseudodesk
DefaultGroupName=pseudodesk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline
OutputDir=..\dist
OutputBaseFilename=pseudodesk-{#AppVersion}-setup
SetupIconFile=pseudodesk.ico
UninstallDisplayIcon={app}\pseudodesk.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Files]
Source: "..\dist\pseudodesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\pseudodesk"; Filename: "{app}\pseudodesk.exe"
Name: "{group}\pseudodesk demo"; Filename: "{app}\pseudodesk.exe"; Parameters: "--demo"
Name: "{group}\Uninstall pseudodesk"; Filename: "{uninstallexe}"

[Run]
; The self-test proves the installed cryptography before anyone relies on it.
Filename: "{app}\pseudodesk-cli.exe"; Parameters: "selftest"; Flags: runhidden waituntilterminated; StatusMsg: "Checking the installation..."
Filename: "{app}\pseudodesk.exe"; Description: "Open pseudodesk"; Flags: nowait postinstall skipifsilent
