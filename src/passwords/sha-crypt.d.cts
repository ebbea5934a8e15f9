/** SHA-crypt (`$5$`, `$6$`): see sha-crypt.cjs. */
export declare function shaCrypt(password: string, setting: string): string;
