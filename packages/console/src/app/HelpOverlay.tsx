import { Dialog } from '../ui/Dialog.tsx';

const SHORTCUTS: Array<[string[], string]> = [
  [['Alt', '↓'], 'Next conversation'],
  [['Alt', '↑'], 'Previous conversation'],
  [['Alt', '1…9'], 'Jump to a conversation of the inbox'],
  [['/'], 'In the composer: insert a canned response by its shortcut'],
  [['Tab'], 'Insert the highlighted canned response (Enter works too)'],
  [['Enter'], 'Send the message'],
  [['Shift', 'Enter'], 'New line'],
  [['Alt', 'N'], 'In the composer: switch between reply and internal note'],
  [['?'], 'Show or hide this help'],
  [['Esc'], 'Close a dialog or a menu'],
];

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={what}>
              <td>
                {keys.map((k, i) => (
                  <span key={k}>
                    {i > 0 && ' + '}
                    <kbd>{k}</kbd>
                  </span>
                ))}
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}
